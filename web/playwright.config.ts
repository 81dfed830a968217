import { defineConfig } from '@playwright/test';

/**
 * The end-to-end suite runs against a mesh that is already up (launcher's DashboardE2EIT starts it
 * with ./bkg and passes BKG_URL, BKG_USER, BKG_PASSWORD), in Debian's Chromium: Playwright never
 * downloads a browser here. One worker: the tests share the mesh and follow one another.
 */
export default defineConfig({
  testDir: 'e2e',
  outputDir: 'target/e2e/test-results',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 180_000,
  expect: { timeout: 30_000 },
  reporter: [['list'], ['json', { outputFile: 'target/e2e/results.json' }]],
  use: {
    baseURL: process.env['BKG_URL'] ?? 'http://127.0.0.1:8080',
    screenshot: 'only-on-failure',
    trace: 'off',
    launchOptions: {
      executablePath: process.env['BKG_CHROMIUM'] ?? '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    },
  },
});
