// Placeholder so the stack synthesizes until the checkpoint writer lands (issue 9 part 1); the
// real handler replaces this file. It fails loudly: a checkpoint that was not written must show.
export const handler = async (): Promise<never> => {
  throw new Error('checkpoint-writer: not implemented');
};
