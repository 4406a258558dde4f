/**
 * Examples shown at the end of `--help` for commands that do not carry their own
 * (test/cli-completion.test.ts checks that every command has some).
 */
import type { Command } from 'commander';

const EXAMPLES: Record<string, string[]> = {
  deploy: ['slipway deploy', 'slipway deploy web --env staging', 'slipway deploy --ref v1.4.2', 'slipway deploy web --image shop-web:1.4 --detach', 'slipway deploy web --allow-destructive   # production: run a migration the lint blocked (audited)'],
  'deploy pause': ['slipway deploy pause 3f2a9c1d-…      # the step stops counting down; analysis goes on'],
  'deploy resume': ['slipway deploy resume 3f2a9c1d-…'],
  'deploy promote': ['slipway deploy promote 3f2a9c1d-…    # skip the remaining steps'],
  'deploy abort': ['slipway deploy abort 3f2a9c1d-…      # all traffic back to the stable release'],
  'webhook create': ['slipway webhook create --repo git@github.com:acme/shop.git', 'slipway webhook create --repo https://git.example.com/shop.git --path deploy'],
  server: ['slipway server', 'SLIPWAY_HTTP_PORT=8080 slipway server --data-dir /srv/slipway'],
  rollback: ['slipway rollback web            # to the release before the live one (a blue-green warm set: a switch back, no container starts)', 'slipway rollback web v3 --env staging'],
  redeploy: ['slipway redeploy web                       # new release, same image and config: every replica replaced', 'slipway redeploy web --image shop-web:1.4.1 --env staging', 'slipway redeploy web -p shop --no-follow --json         # no slipway.yml needed with --project'],
  scale: ['slipway scale web 4                          # 4 replicas of the live release: a new release, nothing else changed', 'slipway scale web 1 --env staging -p shop'],
  restart: ['slipway restart web                        # every replica replaced, one by one', 'slipway restart worker --env staging --no-follow --json'],
  stop: ['slipway stop web                           # 0 replicas, in-flight requests drained; web.example.com answers 503 "web is stopped"', 'slipway stop worker --env staging -p shop'],
  start: ['slipway start web                          # back to the count it ran before slipway stop', 'slipway start web --env staging --no-follow --json'],
  promote: ['slipway promote --from staging --to production', 'slipway promote --from staging --to production web', 'slipway promote --from staging --allow-destructive   # production: run a migration the lint blocked (audited)'],
  approve: ['slipway approve 3f2a9c1d-…'],
  cancel: ['slipway cancel 3f2a9c1d-…'],
  servers: ['slipway servers', 'slipway servers --json'],
  certs: ['slipway certs', 'slipway certs --json | jq \'.certificates[] | select(.status == "failed")\''],
  'certs list': ['slipway certs list'],
  'certs add': ['slipway certs add --domain shop.example.com --cert origin.pem --key origin-key.pem   # e.g. a Cloudflare origin certificate', 'slipway certs add --domain example.com --cert fullchain.pem --key privkey.pem'],
  'certs renew': ['slipway certs renew shop.example.com', 'slipway certs renew hello.localhost'],
  'certs remove': ['slipway certs remove shop.example.com'],
  'certs ca': ['slipway certs ca', 'slipway certs ca --json'],
  alerts: ['slipway alerts', 'slipway alerts --all -p shop', 'slipway alerts silence disk --for 2h --reason "cleaning up images"', 'slipway alerts rules'],
  'alerts list': ['slipway alerts                        # firing alerts, then the silences in force', 'slipway alerts --all -p shop          # resolved ones too', "slipway alerts --json | jq '.alerts[] | select(.silenced | not)'"],
  'alerts silence': [
    'slipway alerts silence error_rate --for 1h -p shop        # every service of shop',
    'slipway alerts silence web/error_rate --for 30m --env staging --reason "load test"',
    'slipway alerts silence disk --for 2h                     # a host rule: everywhere, no slipway.yml needed',
    'slipway alerts silence certificate --subject shop.example.com --for 1d',
  ],
  'alerts silences': ['slipway alerts silences', 'slipway alerts silences -p shop --json'],
  'alerts unsilence': ['slipway alerts unsilence 3                # the id slipway alerts silences lists'],
  'alerts rules': ['slipway alerts rules', 'slipway alerts rules -p shop --env staging --json'],
  'alerts defaults': ['slipway alerts defaults                   # the server-wide defaults as written', 'slipway alerts defaults --file alert-rules.yml   # replace them (admin), then print the rules in force'],
  metrics: ['slipway metrics                      # every service, last hour', 'slipway metrics web --since 24h --by release', 'slipway metrics web --by route --env staging --json'],
  requests: ['slipway requests web --errors                # 5xx only (= --status 5xx)', 'slipway requests web --status 4xx,503', 'slipway requests web --slow 1s --path /api', 'slipway requests web -n 500 --json | jq -r .[].requestId'],
  status: ['slipway status', 'slipway status --env staging --json'],
  releases: ['slipway releases web', 'slipway releases web --env staging'],
  deployments: ['slipway deployments', 'slipway deployments web --env staging --json'],
  deployment: ['slipway deployment 3f2a9c1d-…'],
  logs: ['slipway logs web -f', 'slipway logs web --since 10m --grep \'(?i)error|timeout\'', 'slipway logs web --release v3 --tail 500 --env staging', 'slipway logs web -f --json | jq .line', 'slipway logs web --since 2025-01-31T12:00:00Z --unmask   # admin token: secret values unmasked (audited)'],
  'env list': ['slipway env list'],
  'env create': ['slipway env create preview-checkout'],
  'env destroy': ['slipway env destroy preview-checkout --yes          # volumes are kept (and listed)', 'slipway env destroy preview-checkout --delete-volumes --yes   # their data too: irreversible'],
  'accessories status': ['slipway accessories', 'slipway accessories status --env staging --json'],
  'accessories logs': ['slipway accessories logs db -f', 'slipway accessories logs cache --tail 500 --since 1h --env staging'],
  'accessories restart': ['slipway accessories restart cache'],
  'accessories remove': ['slipway accessories remove db-restored-202612071030 --yes                   # keeps its volumes', 'slipway accessories remove db-restored-202612071030 --delete-volumes --yes  # and its data'],
  'accessories rotate': ['slipway accessories rotate db --follow    # new credentials; web and worker are redeployed with them'],
  volumes: ['slipway volumes', 'slipway volumes --env staging --json', 'slipway volumes -p shop'],
  'db shell': ['slipway db shell                      # interactive: end statements with ";", \\q quits', "slipway db shell db -c 'select count(*) from orders'", 'slipway db shell --env staging < migrations/fix.sql'],
  'backups list': ['slipway backups', 'slipway backups db --env staging', 'slipway backups --all --json'],
  'backups verify': ['slipway backups verify 1a2b3c4d        # the first characters `slipway backups` shows', 'slipway backups verify 1a2b3c4d --env staging --json'],
  backup: ['slipway backup db                     # full or differential, by backup.full_every', 'slipway backup db --full --env staging'],
  restore: [
    'slipway restore db --backup 1a2b3c4d                     # into a new accessory beside db; nothing live changes',
    'slipway restore db --to-time 2026-12-07T10:30:00Z        # the state at that moment (WAL archive)',
    'slipway restore db --backup 1a2b3c4d --in-place --yes    # replace the live data (a backup of it is taken first)',
  ],
  run: ['slipway run web -- node scripts/seed.js', 'slipway run web --env staging --timeout 10m -- node migrate.js'],
  jobs: ['slipway jobs', 'slipway jobs report --env staging'],
  'jobs show': ['slipway jobs show 42'],
  'secrets list': ['slipway secrets list --env staging'],
  'secrets set': ['slipway secrets set API_KEY=abc DB_URL=postgres://…', 'slipway secrets set --from-file .env.production --no-deploy', 'printf %s "$TOKEN" | slipway secrets set STRIPE_KEY'],
  'secrets unset': ['slipway secrets unset OLD_KEY'],
  'secrets rotate-key': ['slipway secrets rotate-key'],
  whoami: ['slipway whoami', 'slipway whoami --context ci'],
  'context list': ['slipway context list'],
  'context use': ['slipway context use prod'],
  'context remove': ['slipway context remove old'],
  'tokens list': ['slipway tokens list --json'],
  'tokens revoke': ['slipway tokens revoke tok_3f2a9c1d4e5f'],
  'users add': ['slipway users add bob --scope read', 'printf %s "$PW" | slipway users add ci-admin --scope admin --password-stdin'],
  'users list': ['slipway users list'],
  'users remove': ['slipway users remove bob'],
  'webhook show': ['slipway webhook show'],
  'webhook remove': ['slipway webhook remove'],
  'config check': ['slipway config check', 'slipway config check deploy/slipway.yml'],
  schema: ['slipway schema > slipway.schema.json'],
  'images allowed': ['slipway images allowed', 'slipway images allowed --json'],
  'images disallow': ["slipway images disallow 'nginx:*'"],
  'base-image create': ['slipway base-image create node', 'slipway base-image create static --force', 'slipway base-image create debian'],
  install: ['slipway install                     # as root: writes /etc/systemd/system/slipway.service, enables and starts it', 'slipway install --dry-run             # print the unit and the environment file', 'slipway install --data-dir /srv/slipway --no-start'],
  uninstall: ['slipway uninstall                   # the edge keeps serving; the data directory stays', 'slipway uninstall --stop-edge'],
};

/** Adds the examples above to the commands they name. */
export function addExamples(program: Command, prefix: string[] = []): void {
  for (const cmd of program.commands) {
    const path = [...prefix, cmd.name()];
    const lines = EXAMPLES[path.join(' ')];
    if (lines) cmd.addHelpText('after', `\nExamples:\n${lines.map((l) => `  ${l}`).join('\n')}`);
    addExamples(cmd, path);
  }
}
