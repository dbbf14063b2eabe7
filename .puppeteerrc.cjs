// whatsapp-web.js depends on Puppeteer; we never download its browser, we use Debian's Chromium.
module.exports = { skipDownload: true };
