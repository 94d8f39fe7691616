/** The GS1 check digit of `body` (the digits before it): weights 3 and 1 from the right (GS1 General Specifications §7.9.1). */
export function gs1CheckDigit(body: string): string {
  let sum = 0;
  for (let i = body.length - 1, weight = 3; i >= 0; i--, weight = 4 - weight) sum += Number(body[i]) * weight;
  return String((10 - (sum % 10)) % 10);
}

/** Whether the last of `digits` is the GS1 check digit of the ones before it. */
export const gs1CheckDigitOk = (digits: string): boolean => digits.length > 1 && gs1CheckDigit(digits.slice(0, -1)) === digits[digits.length - 1];
