/**
 * A JSON object as stored in jsonb columns. Deliberately shallow: TypeORM's update typing recurses
 * into column types, and a recursive JSON type makes it instantiate without end.
 */
export type JsonObject = Record<string, string | number | boolean | null | object>;
