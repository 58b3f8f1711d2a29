import { test, expect, Page, TestInfo } from "@playwright/test";

// How the consent and account pages look and read: the consent buttons side by side at every
// width, browsers named like "Chrome 156 on Linux", times in the reader's time zone.
const WIDTHS = [360, 900, 1280];
const PASSPHRASE = "polish long passphrase";
const ZONE = "Asia/Shanghai";

const TEXT = {
  "en-US": { signIn: "Sign in to continue.", browser: /^Chrome \d+ on Linux$/, recent: /^(just now|a minute ago|\d+ minutes ago)$/ },
  "zh-CN": { signIn: "请登录后继续。", browser: /^Linux 上的 Chrome \d+$/, recent: /^(刚刚|\d+ 分钟前)$/ },
};

async function hydrated(page: Page) {
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
}

/** A full-page screenshot at each width (after `check`), attached to the test's results. */
async function shoot(page: Page, testInfo: TestInfo, name: string, check?: (width: number) => Promise<void>) {
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: 800 });
    if (check) await check(width);
    // Kept in the test's output directory too, to be looked at after a run.
    const path = testInfo.outputPath(`${name}-${width}px.png`);
    await page.screenshot({ path, fullPage: true });
    await testInfo.attach(`${name}-${width}px.png`, { path, contentType: "image/png" });
  }
}

/** `iso` as the browser formats it in `timeZone` (what public/local-time.js should have written). */
function formatIn(page: Page, iso: string, timeZone: string) {
  return page.evaluate(
    ([iso, timeZone]) =>
      new Intl.DateTimeFormat(document.documentElement.lang, { dateStyle: "medium", timeStyle: "short", timeZone }).format(
        new Date(iso),
      ),
    [iso, timeZone],
  );
}

for (const locale of ["en-US", "zh-CN"] as const) {
  test(`consent and account pages, at ${WIDTHS.join(", ")} px (${locale})`, async ({ browser }, testInfo) => {
    test.setTimeout(120_000);
    const text = TEXT[locale];
    const context = await browser.newContext({ locale, timezoneId: ZONE });
    const page = await context.newPage();

    // A first visit to the account page: asked to sign in, not told it was signed out.
    await page.goto("/account");
    await expect(page).toHaveURL(/\/o\/login\/\?next=\/account&error=sign_in$/);
    await expect(page.getByRole("alert")).toHaveText(text.signIn);

    const user = `polish${locale.slice(0, 2)}${Date.now() % 1_000_000}`;
    await page.goto("/o/register/");
    await hydrated(page);
    await page.locator("#username").fill(user);
    await page.locator("#password").fill(PASSPHRASE);
    await page.locator("form button.primary").click();
    await page.waitForURL((u) => u.pathname === "/account");

    await page.goto("/o/authorize/?response_type=code&client_id=demo&scope=openid%20profile%20email%20read%20write&state=p");
    await hydrated(page);
    const deny = page.locator("button[value=deny]");
    const approve = page.locator("button[value=approve]");
    await shoot(page, testInfo, `consent-${locale}`, async (width) => {
      const [d, a] = [await deny.boundingBox(), await approve.boundingBox()];
      expect(d && a, `both buttons laid out at ${width} px`).toBeTruthy();
      expect(Math.abs(d!.y - a!.y), `same top at ${width} px`).toBeLessThan(0.5);
      expect(Math.abs(d!.height - a!.height), `same height at ${width} px`).toBeLessThan(0.5);
      expect(d!.x + d!.width, `Deny before Approve at ${width} px`).toBeLessThanOrEqual(a!.x);
      expect(a!.x + a!.width, `inside the page at ${width} px`).toBeLessThanOrEqual(width);
    });
    await approve.click();
    await page.waitForURL((u) => u.origin === "http://127.0.0.1:8000");

    // A second browser, without JavaScript: the server writes its times in UTC.
    const plain = await browser.newContext({ locale, timezoneId: ZONE, javaScriptEnabled: false });
    const nojs = await plain.newPage();
    await nojs.goto("/o/login/?next=/account");
    await nojs.locator("#username").fill(user);
    await nojs.locator("#password").fill(PASSPHRASE);
    await nojs.locator("form button.primary").click();
    await nojs.waitForURL((u) => u.pathname === "/account");
    const utc = nojs.locator("li.session time[data-local]").first();
    await expect(utc).toHaveText(/^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
    await plain.close();

    await page.goto("/account");
    await hydrated(page);
    const sessions = page.locator("li.session");
    await expect(sessions).toHaveCount(2);
    for (const entry of await sessions.all()) {
      await expect(entry.locator("strong")).toHaveText(text.browser);
      await expect(entry.locator("time[data-ago]")).toHaveText(text.recent);
    }
    const started = sessions.first().locator("time[data-local]");
    const iso = (await started.getAttribute("datetime"))!;
    expect(iso).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const local = await formatIn(page, iso, ZONE);
    expect(local).not.toBe(await formatIn(page, iso, "UTC"));
    await expect(started).toHaveText(local);
    // The relative time carries the local moment as its title.
    const seen = sessions.first().locator("time[data-ago]");
    await expect(seen).toHaveAttribute("title", await formatIn(page, (await seen.getAttribute("datetime"))!, ZONE));
    await expect(page.locator("li.app time[data-local]")).toHaveText(
      await formatIn(page, (await page.locator("li.app time[data-local]").getAttribute("datetime"))!, ZONE),
    );
    await shoot(page, testInfo, `account-${locale}`);
    await context.close();
  });
}
