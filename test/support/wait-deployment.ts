import type { SlipwayClient } from '../../src/client/api-client';
import type { DeploymentView } from '../../src/core/views';

/** Follows a deployment over SSE until it ends and returns its final record. */
export async function waitDeployment(client: SlipwayClient, id: string): Promise<DeploymentView> {
  for await (const ev of client.followDeployment(id)) if (ev.type === 'end') break;
  return (await client.deployment(id)).deployment;
}

export async function deployAndWait(client: SlipwayClient, body: { config: string; baseDir: string; env?: string }): Promise<DeploymentView> {
  const { deployments } = await client.deploy(body);
  return waitDeployment(client, deployments[0]!.id);
}

/** The deployment's log as text, for assertions and failure messages. */
export async function deploymentLog(client: SlipwayClient, id: string): Promise<string> {
  return (await client.deploymentLogs(id)).lines.map((l) => l.message).join('\n');
}
