/*
 * bcryptprimitives.dll for Wine 8.0, which does not ship one.
 *
 * Every Windows binary built by Go >= 1.22 loads bcryptprimitives.dll at
 * start and draws its randomness from ProcessPrng. Windows 10 and later
 * export it; Wine 8.0 does not, so a Go test binary dies before main.
 * This DLL exports ProcessPrng and fills the buffer from BCryptGenRandom,
 * which Wine does implement. Used only by .ci/windows-wine, never shipped.
 */
#include <windows.h>
#include <bcrypt.h>

BOOL WINAPI ProcessPrng(PBYTE buf, SIZE_T len)
{
    /* BCryptGenRandom takes a ULONG length: feed it at most 1 GiB a call. */
    const SIZE_T chunk = 0x40000000;

    while (len > 0) {
        ULONG n = (ULONG)(len < chunk ? len : chunk);
        if (!BCRYPT_SUCCESS(BCryptGenRandom(NULL, buf, n, BCRYPT_USE_SYSTEM_PREFERRED_RNG)))
            return FALSE;
        buf += n;
        len -= n;
    }
    return TRUE;
}
