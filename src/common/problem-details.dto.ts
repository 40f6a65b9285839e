import { ApiProperty } from '@nestjs/swagger';

export class FieldErrorDto {
  @ApiProperty({ example: 'name' })
  field: string;

  @ApiProperty({ example: 'name must be longer than or equal to 1 characters' })
  message: string;
}

/** RFC 9457 problem details, as every error of the API is answered (SPEC §2). */
export class ProblemDetailsDto {
  @ApiProperty({ example: 'urn:outlink:problem:validation_failed' })
  type: string;

  @ApiProperty({ example: 'Validation failed' })
  title: string;

  @ApiProperty({ example: 400 })
  status: number;

  @ApiProperty({ example: 'The request is not valid.' })
  detail: string;

  @ApiProperty({ description: 'Stable machine-readable code.', example: 'validation_failed' })
  code: string;

  @ApiProperty({ type: [FieldErrorDto], required: false })
  errors?: FieldErrorDto[];

  @ApiProperty({ required: false, description: 'Present on 5xx answers, to find the logs.' })
  requestId?: string;
}
