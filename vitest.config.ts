import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Test files run in parallel workers; each creates its own uniquely named databases.
    pool: "forks",
  },
});
