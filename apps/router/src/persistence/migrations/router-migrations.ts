import { CreateWorkflows1732440000000 } from './1732440000000-create-workflows';
import { Patterns1732500000000 } from './1732500000000-patterns';
import { Agents1732600000000 } from './1732600000000-agents';
import { AgentReservation1732700000000 } from './1732700000000-agent-reservation';
import { WorkflowTrace1732800000000 } from './1732800000000-workflow-trace';

/** The router schema's migrations, in order (the shared outbox, inbox and claims ones are added by the data source). */
export const ROUTER_MIGRATIONS = [
  CreateWorkflows1732440000000,
  Patterns1732500000000,
  Agents1732600000000,
  AgentReservation1732700000000,
  WorkflowTrace1732800000000,
];
