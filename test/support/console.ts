import type { Page } from 'playwright-core';
import { PASSWORD } from './actors.ts';

/**
 * What every console journey watches on its pages: a CSP or CORS refusal, or an uncaught error,
 * is a problem of the journey. A 4xx the page shows (a wrong code, a refused form, a 404) is
 * logged by Chromium as a failed resource load: expected, and not counted.
 */
export function watchPage(page: Page, problems: string[]): Page {
  page.on('console', (message) => {
    const text = message.text();
    if (
      message.type() === 'error' &&
      !/Failed to load resource: the server responded with a status of 4\d\d/.test(text)
    )
      problems.push(text);
  });
  page.on('pageerror', (error) => problems.push(error.message));
  return page;
}

/** Signs in through the console's form, as a person does, and waits for the tenants page. */
export async function signIn(page: Page, consoleUrl: string, email: string): Promise<void> {
  await page.goto(`${consoleUrl}/sign-in`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Your tenants' }).waitFor();
}
