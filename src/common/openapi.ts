import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';

export const DOCS_PATH = 'docs';

/** The OpenAPI 3.1 document, generated from the controllers and DTOs (SPEC §2). */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const options = new DocumentBuilder()
    .setOpenAPIVersion('3.1.0')
    .setTitle('Outlink')
    .setDescription(
      'OAuth 2.0 outgoing links: register an external application once, authorize it once, and ' +
        'get a valid access token from `GET /v1/links/{id}/token` whenever you need one. ' +
        'Use "Authorize" with an API key (`olk_...`).',
    )
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'An Outlink API key (olk_...)' })
    .build();
  return SwaggerModule.createDocument(app, options, {
    operationIdFactory: (_controllerKey, methodKey) => methodKey,
  });
}

/** Swagger UI at /docs with a working Authorize button; the raw document beside it. */
export function setUpSwaggerUi(app: INestApplication, document: OpenAPIObject): void {
  SwaggerModule.setup(DOCS_PATH, app, document, {
    jsonDocumentUrl: `${DOCS_PATH}/openapi.json`,
    yamlDocumentUrl: `${DOCS_PATH}/openapi.yaml`,
    swaggerOptions: { persistAuthorization: true, displayOperationId: true },
    customSiteTitle: 'Outlink API',
  });
}
