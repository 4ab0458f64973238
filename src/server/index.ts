export { createApp, type App } from './app.ts';
export { statusForCode } from './error-mapping.ts';
export { openApiDocument } from './openapi-document.ts';
