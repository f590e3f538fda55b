/** The admin credentials every test node is started with (no test-runner imports, so benches can use it). */
export const ADMIN_PASSWORD = 'admin-Passw0rd!';
export const ADMIN_AUTH = `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}`;

export function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}
