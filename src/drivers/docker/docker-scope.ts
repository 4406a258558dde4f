/**
 * Where a Docker driver's containers are: the server its engine runs on (`server`, named in
 * every replica and accessory it reports) and `base`, its base network (the labels and names of
 * everything it creates derive from it; replicas started before environment networks are on it).
 */
export interface DockerScope {
  base: string;
  server: string;
}
