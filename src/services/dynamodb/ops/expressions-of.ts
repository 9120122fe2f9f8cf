import type { Condition, Projection, Update } from '../expressions/index.ts';
import {
  conditionFromExpected,
  ExpressionAttributes,
  parseCondition,
  parseProjection,
  parseUpdate,
  projectionFromAttributesToGet,
  updateFromAttributeUpdates,
} from '../expressions/index.ts';
import { noMixing } from './common.ts';

/** The parsed expressions of one request, from either the expression or the legacy parameters. */
export interface ParsedExpressions {
  attrs: ExpressionAttributes;
  condition?: Condition;
  update?: Update;
  projection?: Projection;
}

interface ExpressionInput {
  ConditionExpression?: string;
  UpdateExpression?: string;
  ProjectionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, any>;
  Expected?: Record<string, any>;
  ConditionalOperator?: 'AND' | 'OR';
  AttributeUpdates?: Record<string, any>;
  AttributesToGet?: string[];
}

/** Parse what a Put/Update/Delete/Get request carries, refusing mixtures as AWS does, then check every name/value was used. */
export function parseItemExpressions(
  input: ExpressionInput,
  allowed: { condition?: boolean; update?: boolean; projection?: boolean },
): ParsedExpressions {
  const legacy = [
    allowed.condition && 'Expected',
    allowed.update && 'AttributeUpdates',
    allowed.projection && 'AttributesToGet',
    input.ConditionalOperator !== undefined && 'ConditionalOperator',
  ].filter(Boolean) as string[];
  const expr = [
    allowed.condition && 'ConditionExpression',
    allowed.update && 'UpdateExpression',
    allowed.projection && 'ProjectionExpression',
  ].filter(Boolean) as string[];
  noMixing(input as Record<string, unknown>, legacy, expr);
  const attrs = new ExpressionAttributes(input.ExpressionAttributeNames, input.ExpressionAttributeValues);
  const out: ParsedExpressions = { attrs };
  if (allowed.update) {
    if (input.UpdateExpression !== undefined) out.update = parseUpdate(input.UpdateExpression, attrs);
    else if (input.AttributeUpdates !== undefined) out.update = updateFromAttributeUpdates(input.AttributeUpdates);
  }
  if (allowed.condition) {
    if (input.ConditionExpression !== undefined)
      out.condition = parseCondition(input.ConditionExpression, attrs, 'ConditionExpression');
    else if (input.Expected !== undefined)
      out.condition = conditionFromExpected(input.Expected, input.ConditionalOperator);
  }
  if (allowed.projection) {
    if (input.ProjectionExpression !== undefined) out.projection = parseProjection(input.ProjectionExpression, attrs);
    else if (input.AttributesToGet !== undefined) out.projection = projectionFromAttributesToGet(input.AttributesToGet);
  }
  attrs.assertAllUsed();
  return out;
}
