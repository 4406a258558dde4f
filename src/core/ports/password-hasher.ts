/** Password hashing for user accounts (argon2id in the driver); slow on purpose. */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** False for a wrong password or a malformed hash; never throws on bad input. */
  verify(hash: string, password: string): Promise<boolean>;
}
