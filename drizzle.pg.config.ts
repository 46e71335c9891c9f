import { defineConfig } from "drizzle-kit";

// `npm run db:generate:pg` writes a new PostgreSQL migration into db/pg-migrations after
// db/pg-schema.ts changes (keep it in step with db/schema.ts). Migrations are committed and
// applied when the bot opens a PostgreSQL database (db/pg-client.ts).
export default defineConfig({
  dialect: "postgresql",
  schema: "./db/pg-schema.ts",
  out: "./db/pg-migrations",
});
