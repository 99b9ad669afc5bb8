/** Domain errors of the router; the HTTP filter and the bus map them by `code`. */
export class WorkflowNotFoundError extends Error {
  readonly code = 'workflow_not_found';
  readonly retryable = false;
  constructor(readonly workflowId: string) {
    super(`workflow ${workflowId} not found`);
  }
}

export class DefinitionNotFoundError extends Error {
  readonly code = 'definition_not_found';
  readonly retryable = false;
  constructor(readonly definitionName: string) {
    super(`workflow definition "${definitionName}" is not registered`);
  }
}

export class WorkflowNotRunningError extends Error {
  readonly code = 'workflow_not_running';
  readonly retryable = false;
  constructor(
    readonly workflowId: string,
    readonly status: string,
  ) {
    super(`workflow ${workflowId} is ${status}, not running`);
  }
}
