/**
 * DynamoDB expressions: condition / filter / key condition, update and projection expressions,
 * plus the legacy parameters converted into the same forms. Parse once per request with one
 * shared ExpressionAttributes, then call `attrs.assertAllUsed()`; evaluation needs no attrs.
 * Syntax trees are cached by expression text; names and values are bound per request.
 */
export { ExpressionAttributes } from './attributes.ts';
export { type DocPath, getPath, type PathEl, pathStr } from './common.ts';
export {
  type CmpOp,
  type Condition,
  evaluateCondition,
  type Operand,
  parseCondition,
} from './condition.ts';
export { type KeyCondition, type KeyOp, parseKeyCondition } from './key-condition.ts';
export {
  conditionFromExpected,
  conditionFromFilter,
  keyConditionFromLegacy,
  type LegacyAttributeUpdate,
  type LegacyCondition,
  updateFromAttributeUpdates,
} from './legacy.ts';
export { applyProjection, type Projection, parseProjection, projectionFromAttributesToGet } from './projection.ts';
export type { ExpressionKind } from './syntax.ts';
export {
  applyUpdate,
  parseUpdate,
  touchedTopLevelNames,
  type Update,
  type UpdateAction,
  type UpdateValue,
  updatedPaths,
  updatedProjection,
} from './update.ts';
