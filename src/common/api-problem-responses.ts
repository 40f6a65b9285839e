import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { PROBLEM_CONTENT_TYPE } from './problem-details.filter.js';
import { ProblemDetailsDto } from './problem-details.dto.js';

const DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid input (validation_failed, invalid_json)',
  401: 'Missing or invalid API key (unauthorized)',
  403: 'The key lacks the role or the link grant (forbidden)',
  404: 'No such resource (not_found)',
  409: 'Conflicts with the current state',
  413: 'Request body over 64 KiB',
  429: 'Too many failed authentications',
  503: 'A dependency is unavailable',
};

/** Documents problem+json error answers of an operation or controller. */
export function ApiProblemResponses(...statuses: number[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ApiExtraModels(ProblemDetailsDto),
    ...statuses.map((status) =>
      ApiResponse({
        status,
        description: DESCRIPTIONS[status] ?? 'Error',
        content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: getSchemaPath(ProblemDetailsDto) } } },
      }),
    ),
  );
}
