// PostGraphile 5, the peer: the service's own seeded PostgreSQL schema served as GraphQL,
// with the functions bench/postgraphile/peer.sql adds beside it (`isRegistered`).
//
// `node server.cjs PORT` listens on 127.0.0.1:PORT. Started by bench/peer.py with NODE_PATH
// pointing at the packages the bench installed, and configured by the environment:
//   PEER_DATABASE_URL      postgres://... (the service's database)
//   PEER_SCHEMAS           the service's schema and the peer's, comma separated
//   PEER_JWT_SECRET        the HS256 secret the service's tokens are signed with
//   PEER_POOL_SIZE         connections, as many as the service's pool
//   PEER_APPLICATION_NAME  how peer.sql's trigger knows the peer's connections
"use strict";

const { createServer } = require("node:http");
const { postgraphile } = require("postgraphile");
const { grafserv } = require("postgraphile/grafserv/node");
const { PostGraphileAmberPreset } = require("postgraphile/presets/amber");
const { PgLazyJWTPreset } = require("postgraphile/presets/lazy-jwt");
const { makePgService } = require("postgraphile/adaptors/pg");

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

const preset = {
  extends: [PostGraphileAmberPreset, PgLazyJWTPreset],
  pgServices: [
    makePgService({
      connectionString: env("PEER_DATABASE_URL"),
      schemas: env("PEER_SCHEMAS").split(","),
      poolConfig: {
        max: Number(env("PEER_POOL_SIZE")),
        application_name: env("PEER_APPLICATION_NAME"),
      },
    }),
  ],
  grafserv: {
    // Every request is verified (signature, `exp`); the claims reach SQL as
    // current_setting('jwt.claims.sub'). The service's tokens carry no audience.
    pgJwtSecret: env("PEER_JWT_SECRET"),
    pgJwtVerifyOptions: { audience: undefined, algorithms: ["HS256"] },
    graphiql: false,
    watch: false,
  },
  grafast: { explain: false },
};

async function main() {
  const pgl = postgraphile(preset);
  const serv = pgl.createServ(grafserv);
  const server = createServer();
  await serv.addTo(server);
  const port = Number(process.argv[2]);
  server.keepAliveTimeout = 65_000; // wrk keeps its connections; so do the Python servers
  server.listen(port, "127.0.0.1", () => console.log(`peer: listening on ${port}`));
  const stop = () => server.close(() => pgl.release().then(() => process.exit(0)));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
