/** The rule lives in @baton/contracts: the runner attaches context at dispatch by the same convention. */
export { taskContextOf, type TaskContext } from '@baton/contracts';
