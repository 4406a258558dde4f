/** A service's HTTPS settings (slipway.yml `https`) as the edge applies them to its domains. */
import type { ServiceConfig } from '../core/config';
import type { EdgeHttpsPolicy } from '../core/ports/edge';

export function edgeHttpsPolicy(config: Pick<ServiceConfig, 'https'>): EdgeHttpsPolicy {
  const h = config.https;
  const hsts = h.hstsMaxAgeS === null ? null : `max-age=${h.hstsMaxAgeS}${h.hstsIncludeSubdomains ? '; includeSubDomains' : ''}`;
  return { redirect: h.redirect, hsts };
}
