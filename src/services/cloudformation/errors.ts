import { AwsError } from '../../core/errors.ts';

/** CloudFormation's catch-all client error (code `ValidationError`, status 400). */
export const validationError = (message: string) => new AwsError('ValidationError', message, 400);

export const alreadyExists = (name: string) =>
  new AwsError('AlreadyExistsException', `Stack [${name}] already exists`, 400);

export const insufficientCapabilities = (caps: string[]) =>
  new AwsError('InsufficientCapabilitiesException', `Requires capabilities : [${caps.join(', ')}]`, 400);

export const stackNotFound = (name: string) => validationError(`Stack with id ${name} does not exist`);

export const changeSetNotFound = (name: string) =>
  new AwsError('ChangeSetNotFound', `ChangeSet [${name}] does not exist`, 404);

/** A resource failed while deploying: the message becomes the resource's *_FAILED event reason. */
export class ResourceFailure extends Error {
  override name = 'ResourceFailure';
}
