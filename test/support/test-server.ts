/**
 * An engine on a fresh temporary directory with an HTTP server over it, for
 * suites that set up in `before` and tear down in `after`.
 */
import { createServer, type ServerOptions, type TandemServer } from '../../src/server/index.ts';
import { Tandem, type TandemConfig } from '../../src/index.ts';
import { makeTempDir } from './temp-dir.ts';

export interface TestServer {
  readonly tandem: Tandem;
  readonly server: TandemServer;
  close(): Promise<void>;
}

export async function openTestServer(config: TandemConfig, options: Omit<ServerOptions, 'tandem'> = {}): Promise<TestServer> {
  const temp = await makeTempDir('tandem-server-');
  const tandem = await Tandem.open({ dataDir: temp.dir, config });
  const server = createServer({ ...options, tandem });
  return {
    tandem, server,
    async close() {
      await server.app.close();
      await tandem.close();
      await temp.remove();
    },
  };
}
