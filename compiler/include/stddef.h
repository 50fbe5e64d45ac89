/*
 * stddef.h for tsbpf (C11 7.19), for the BPF target: the compiler predefines the types'
 * spellings (__SIZE_TYPE__, ...), this header names them. Like the compiler's own stddef.h it
 * answers the __need_* requests other headers make (e.g. glibc's `#define __need_size_t`) by
 * defining only what is asked for.
 */
#if !defined(__need_ptrdiff_t) && !defined(__need_size_t) && !defined(__need_wchar_t) && \
    !defined(__need_NULL) && !defined(__need_max_align_t) && !defined(__need_offsetof) && \
    !defined(__need_wint_t)
#define __tsbpf_stddef_all
#endif

#if defined(__tsbpf_stddef_all) || defined(__need_ptrdiff_t)
#ifndef _PTRDIFF_T
#define _PTRDIFF_T
typedef __PTRDIFF_TYPE__ ptrdiff_t;
#endif
#endif

#if defined(__tsbpf_stddef_all) || defined(__need_size_t)
#ifndef _SIZE_T
#define _SIZE_T
typedef __SIZE_TYPE__ size_t;
#endif
#endif

#if defined(__tsbpf_stddef_all) || defined(__need_wchar_t)
#ifndef _WCHAR_T
#define _WCHAR_T
typedef __WCHAR_TYPE__ wchar_t;
#endif
#endif

#if defined(__need_wint_t)
#ifndef _WINT_T
#define _WINT_T
typedef __WINT_TYPE__ wint_t;
#endif
#endif

#if defined(__tsbpf_stddef_all) || defined(__need_NULL)
#undef NULL
#define NULL ((void*)0)
#endif

#if defined(__tsbpf_stddef_all) || defined(__need_max_align_t)
#ifndef __CLANG_MAX_ALIGN_T_DEFINED
#define __CLANG_MAX_ALIGN_T_DEFINED
/* The most strictly aligned scalar types: 8 bytes on BPF. */
typedef struct {
  long long __max_align_ll __attribute__((__aligned__(__alignof__(long long))));
  long double __max_align_ld __attribute__((__aligned__(__alignof__(long double))));
} max_align_t;
#endif
#endif

#if defined(__tsbpf_stddef_all) || defined(__need_offsetof)
#define offsetof(t, d) __builtin_offsetof(t, d)
#endif

#if defined(__tsbpf_stddef_all)
#define __STDDEF_H
#endif

#undef __tsbpf_stddef_all
#undef __need_ptrdiff_t
#undef __need_size_t
#undef __need_wchar_t
#undef __need_wint_t
#undef __need_NULL
#undef __need_max_align_t
#undef __need_offsetof
