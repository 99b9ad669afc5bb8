/** Domain errors of the router; @baton/http maps them by `httpStatus`/`code`, the bus by `retryable`. */
export class WorkflowNotFoundError extends Error {
  readonly code = 'workflow_not_found';
  readonly httpStatus = 404;
  readonly retryable = false;
  constructor(readonly workflowId: string) {
    super(`workflow ${workflowId} not found`);
  }
}

export class DefinitionNotFoundError extends Error {
  readonly code = 'definition_not_found';
  readonly httpStatus = 404;
  readonly retryable = false;
  constructor(readonly definitionName: string) {
    super(`workflow definition "${definitionName}" is not registered`);
  }
}

export class WorkflowNotRunningError extends Error {
  readonly code = 'workflow_not_running';
  readonly httpStatus = 409;
  readonly retryable = false;
  constructor(
    readonly workflowId: string,
    readonly status: string,
  ) {
    super(`workflow ${workflowId} is ${status}, not running`);
  }
}
