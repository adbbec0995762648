/** The bundle benchmark's baseline: what the runtime and the bundling options cost with no code. */
export const handler = async (): Promise<Record<string, never>> => ({});
