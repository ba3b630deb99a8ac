import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { errorMessage } from '../core/index.ts';
import { ApiError } from './errors.ts';

/** Debian's chromium package. */
export const DEFAULT_CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * Prints a document's HTML (statements, capacity reports) to PDF with headless Chromium (playwright-core's launcher
 * on the system's Chromium; no browser is downloaded). One browser is launched on the
 * first PDF and kept for the next ones (a launch costs about a second); each PDF gets its
 * own context. Without Chromium the answer is 503, saying what to install.
 */
export interface PdfRenderer {
  render(html: string): Promise<Buffer>;
  /** Closes the browser if one was launched; idempotent. */
  close(): Promise<void>;
}

export interface PdfRendererConfig {
  readonly executablePath?: string;
  /** What the error says needs Chromium ("PDF statements"). */
  readonly documents?: string;
  /** The error's code when Chromium is missing or does not start. */
  readonly errorCode?: string;
}

export function createPdfRenderer(config: PdfRendererConfig = {}): PdfRenderer {
  const executablePath = config.executablePath ?? DEFAULT_CHROMIUM_PATH;
  const unavailable = (path: string, why: string) =>
    new ApiError(config.errorCode ?? 'CUMULUS_PDF_UNAVAILABLE', 503, `${config.documents ?? 'PDF documents'} need Chromium at ${path} (${why}): install Debian's chromium package (apt-get install chromium), or ask for HTML and print that.`);
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
