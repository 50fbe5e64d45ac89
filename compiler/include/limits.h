/*
 * limits.h for tsbpf (C11 7.10.2), for the BPF target: char is signed, int 32 bits, long and
 * long long 64 bits. The values come from the compiler's predefined __*_MAX__ macros.
 */
#ifndef __CLANG_LIMITS_H
#define __CLANG_LIMITS_H
#define _GCC_LIMITS_H_

#define CHAR_BIT __CHAR_BIT__
#define MB_LEN_MAX 1

#define SCHAR_MAX __SCHAR_MAX__
#define SCHAR_MIN (-__SCHAR_MAX__-1)
#define UCHAR_MAX (__SCHAR_MAX__*2 +1)
#define CHAR_MIN SCHAR_MIN
#define CHAR_MAX __SCHAR_MAX__

#define SHRT_MAX __SHRT_MAX__
#define SHRT_MIN (-__SHRT_MAX__ -1)
#define USHRT_MAX (__SHRT_MAX__ *2 +1)

#define INT_MAX __INT_MAX__
#define INT_MIN (-__INT_MAX__ -1)
#define UINT_MAX (__INT_MAX__ *2U +1U)

#define LONG_MAX __LONG_MAX__
#define LONG_MIN (-__LONG_MAX__ -1L)
#define ULONG_MAX (__LONG_MAX__ *2UL+1UL)

#define LLONG_MAX __LONG_LONG_MAX__
#define LLONG_MIN (-__LONG_LONG_MAX__-1LL)
#define ULLONG_MAX (__LONG_LONG_MAX__*2ULL+1ULL)

/* The GNU names of the long long limits. */
#define LONG_LONG_MAX __LONG_LONG_MAX__
#define LONG_LONG_MIN (-__LONG_LONG_MAX__-1LL)
#define ULONG_LONG_MAX (__LONG_LONG_MAX__*2ULL+1ULL)

#endif
