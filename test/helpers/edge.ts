import path from 'node:path';
import { freePort, startNginx, type NginxHandle } from '../../devstack';
import { DELIVERY_SECRET, startPlatform, type PlatformOptions, type TestPlatform } from './stack';

/**
 * The platform with a real nginx secure_link edge in front: delivery URLs point at the edge, which verifies tokens
 * itself and proxies to the platform's origin. nginx keeps its files under `dir`.
 */
export async function startPlatformBehindEdge(
  dir: string,
  opts: Omit<PlatformOptions, 'deliveryBaseUrl'> = {},
): Promise<{ platform: TestPlatform; nginx: NginxHandle }> {
  const edgePort = await freePort();
  const platform = await startPlatform({ ...opts, deliveryBaseUrl: `http://127.0.0.1:${edgePort}` });
  const nginx = await startNginx({
    dataDir: path.join(dir, 'nginx'),
    port: edgePort,
    originUrl: platform.baseUrl,
    signingSecret: DELIVERY_SECRET,
  });
  return { platform, nginx };
}
