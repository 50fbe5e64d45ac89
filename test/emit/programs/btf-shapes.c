/* BTF shapes: records, unions, bit-fields, enums, typedefs, qualifiers, arrays, function
 * pointers, tags, and pointer members whose records only become FWDs. */
#define __tag1 __attribute__((btf_type_tag("tag1")))
#define __tag2 __attribute__((btf_type_tag("tag2")))

struct node;
struct leaf { char c; };
struct inner { int a; struct node *next; struct leaf *lf; };
typedef unsigned short u16_t;
enum color { RED, GREEN = 5, BLUE = -1 };
struct bits { unsigned a:3, b:5; int :4; int c; };
union un { int i; char b[4]; };
struct shapes {
	struct inner in;
	u16_t w;
	enum color col;
	struct bits bf;
	union un u;
	int arr[2][3];
	void (*cb)(int, ...);
	const volatile int cv;
	struct { int x; };
	int __tag1 __tag2 *tp;
	int __attribute__((btf_decl_tag("dt"))) tagged;
	_Bool flag;
	unsigned char uc;
	signed char sc;
	long long ll;
	unsigned long long ull;
};
struct ref { struct shapes *sp; const struct shapes *csp; struct leaf *lp; };

int uses(struct shapes *p, volatile const int *restrict v, struct ref *r)
{
	return p->in.a + *v + (r ? 1 : 0);
}

int leafy(struct leaf *l)
{
	static int counter;
	counter++;
	return l->c + counter;
}

struct shapes global_shapes;
static int static_data = 4;
const int table[2][3] = { { 1, 2, 3 }, { 4, 5, 6 } };

int touch(int i)
{
	static_data += i;
	return static_data + table[i & 1][(unsigned int)i % 3] + global_shapes.w;
}
