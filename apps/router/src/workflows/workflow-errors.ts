/** Domain errors of the router; the HTTP filter and the bus map them by `code`. */
export class WorkflowNotFoundError extends Error {
  readonly code = 'workflow_not_found';
  readonly retryable = false;
  constructor(readonly workflowId: string) {
    super(`workflow ${workflowId} not found`);
  }
}
