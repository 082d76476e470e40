// Opens the dashboard in headless Chromium, waits until the chart shows its bars, prints
// the top tag the page shows (JSON: {"topTag": ..., "bars": n}) and saves a screenshot.
// Usage: node check_dashboard.cjs URL SCREENSHOT.png   (CHROMIUM: the browser, default /usr/bin/chromium)
const { chromium } = require("playwright-core");

(async () => {
  const [url, screenshot] = process.argv.slice(2);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox"],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(url);
    // Bars come from the server-sent events, not from polling.
    await page.waitForSelector("body[data-bars='10']", { timeout: 60000 });
    // The query's progress reaches the page too (batch id, status, sparklines).
    await page.waitForFunction(() => document.getElementById("batch").textContent.includes("batch"));
    // The screenshot shows the bars at rest, after Chart.js's transition.
    await page.waitForFunction(() => !Chart.animator.running(Chart.getChart("top")));
    const result = await page.evaluate(() => ({
      topTag: document.body.dataset.topTag,
      bars: Number(document.body.dataset.bars),
      status: document.getElementById("status-text").textContent,
      batch: document.getElementById("batch").textContent,
    }));
    await page.screenshot({ path: screenshot });
    if (errors.length) throw new Error("page errors: " + errors.join("; "));
    console.log(JSON.stringify(result));
  } finally {
    await browser.close();
  }
})().catch((e) => {
  console.error(String(e && e.stack ? e.stack : e));
  process.exit(1);
});
