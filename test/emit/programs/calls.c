/* Calls: global and static functions in .text and in program sections, a callback address,
 * string literals. */
static int counter = 4;
int glob[4];
static char small[8];

__attribute__((noinline)) int global_helper(int x) { return x * 3 + glob[2]; }
static __attribute__((noinline)) int static_helper(int x) { return x + counter + small[x & 7]; }
static long callback(unsigned int i, void *ctx) { return i; }

int entry_in_text(int x) { return global_helper(x) + static_helper(x) + glob[1]; }

__attribute__((section("xdp"))) int prog(void *ctx)
{
	const char *s = "hi there";
	long (*f)(unsigned int, void *) = callback;
	long n = ((long (*)(long, void *, void *, long))181)(3, f, 0, 0);
	counter++;
	return n + global_helper(2) + static_helper(1) + s[(long)ctx & 7];
}

__attribute__((section("xdp"))) int prog2(void *ctx)
{
	return static_helper(5) + 1;
}
