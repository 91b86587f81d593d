export async function profile(_argv: string[]): Promise<void> {
  throw new Error("not yet");
}
