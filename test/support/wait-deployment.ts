import type { SlipwayClient } from '../../src/client/api-client';
import type { DeploymentView } from '../../src/core/contract/views';
import { deployDirectory, type UploadOptions } from '../../src/client/upload-contexts';

/** Follows a deployment over SSE until it ends and returns its final record. */
export async function waitDeployment(client: SlipwayClient, id: string): Promise<DeploymentView> {
  for await (const ev of client.followDeployment(id)) if (ev.type === 'end') break;
  return (await client.deployment(id)).deployment;
}

/** Uploads the variant's build context (as the CLI does), deploys it and waits for the outcome. */
export async function deployAndWait(client: SlipwayClient, body: UploadOptions): Promise<DeploymentView> {
  const { deployments } = await deployDirectory(client, body);
  return waitDeployment(client, deployments[0]!.id);
}

/** The deployment's log as text, for assertions and failure messages. */
export async function deploymentLog(client: SlipwayClient, id: string): Promise<string> {
  return (await client.deploymentLogs(id)).lines.map((l) => l.message).join('\n');
}
