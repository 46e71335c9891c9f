import { defineConfig } from "drizzle-kit";

// `npm run db:generate` writes a new migration into db/migrations after db/schema.ts changes.
// Migrations are committed and applied automatically when the bot opens its database.
export default defineConfig({
  dialect: "sqlite",
  schema: "./db/schema.ts",
  out: "./db/migrations",
});
