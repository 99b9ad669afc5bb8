export const X: number = 42;
