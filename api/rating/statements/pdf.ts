import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { errorMessage } from '../../../core/index.ts';
import { ApiError } from '../../errors.ts';

/** Debian's chromium package. */
export const DEFAULT_CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * Prints the statement's HTML to PDF with headless Chromium (playwright-core's launcher
 * on the system's Chromium; no browser is downloaded). One browser is launched on the
 * first PDF and kept for the next ones (a launch costs about a second); each PDF gets its
 * own context. Without Chromium the answer is 503, saying what to install.
 */
export interface PdfRenderer {
  render(html: string): Promise<Buffer>;
  /** Closes the browser if one was launched; idempotent. */
  close(): Promise<void>;
}

const unavailable = (path: string, why: string) =>
  new ApiError('CUMULUS_RATING_PDF_UNAVAILABLE', 503, `PDF statements need Chromium at ${path} (${why}): install Debian's chromium package (apt-get install chromium), or ask for format=html and print that.`);

export function createPdfRenderer(config: { readonly executablePath?: string } = {}): PdfRenderer {
  const executablePath = config.executablePath ?? DEFAULT_CHROMIUM_PATH;
  let browser: Promise<Browser> | null = null;

  const launch = (): Promise<Browser> => {
    if (!existsSync(executablePath)) return Promise.reject(unavailable(executablePath, 'not found'));
    browser ??= chromium.launch({ executablePath, headless: true }).then(
      (launched) => {
        launched.on('disconnected', () => void (browser = null));
        return launched;
      },
      (err: unknown) => {
        browser = null;
        throw unavailable(executablePath, `it did not start: ${errorMessage(err).split('\n')[0]}`);
      },
    );
    return browser;
  };

  return {
    async render(html) {
      const context = await (await launch()).newContext();
      try {
        const page = await context.newPage();
        await page.setContent(html, { waitUntil: 'load' });
        return await page.pdf({ format: 'A4', printBackground: true, preferCSSPageSize: true });
      } finally {
        await context.close();
      }
    },
    async close() {
      const launched = browser;
      browser = null;
      if (launched) await (await launched.catch(() => null))?.close();
    },
  };
}
