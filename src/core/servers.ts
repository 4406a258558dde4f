/**
 * The servers Slipway runs containers on. Runtime and edge operations name the server they act
 * on (shared/DESIGN.md, "Several servers"); today a control plane has one, the host it runs on,
 * so several servers will add implementations of the ports (one per server, or one spanning a
 * Swarm), not rewrite the engine. A container ID names one container on one server.
 */

/** The server a single-host control plane runs on: its own host. */
export const LOCAL_SERVER = 'local';

/** Something that runs on one server (a replica, a one-off, an accessory, an edge). */
export interface OnServer {
  /** The server's name (`local` on a single host). */
  server: string;
}
