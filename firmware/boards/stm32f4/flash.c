/*
 * The two flash sectors under the storage log: sectors 6 and 7 (128 KiB
 * each at 0x08040000 and 0x08060000) of a 512 KiB F401RE/F411CE, programmed
 * a word at a time (x32, 2.7-3.6 V) with every busy wait bounded.
 *
 * QEMU maps flash as ROM and has no flash interface, so under emulation
 * (stm32_clock.emulated) the sectors are 2 x 32 KiB of RAM above the
 * image's 64 KiB, with NOR rules kept: erase sets 0xFF, programming only
 * clears bits. The log code above cannot tell the difference.
 */
#include <errno.h>
#include <string.h>

#include "board.h"
#include "regs.h"

#define SECTOR_FIRST 6u
#define ERASE_SPINS 200000000u   /* 128 KiB: 1-2 s typical, 4 s max at 84 MHz */
#define PROGRAM_SPINS 100000u

struct stm32_flash stm32_flash;

void stm32_flash_init(bool emulated)
{
	stm32_flash.emulated = emulated;
	if (emulated) {
		stm32_flash.base[0] = 0x20010000u;
		stm32_flash.base[1] = 0x20018000u;
		stm32_flash.size = 32u * 1024u;
	} else {
		stm32_flash.base[0] = 0x08040000u;
		stm32_flash.base[1] = 0x08060000u;
		stm32_flash.size = 128u * 1024u;
	}
}

static int wait_idle(uint32_t spins)
{
	while (FLASH_SR & FLASH_SR_BSY)
		if (--spins == 0)
			return -EIO;
	if (FLASH_SR & FLASH_SR_ERRORS) {
		FLASH_SR = FLASH_SR_ERRORS; /* write 1 to clear */
		return -EIO;
	}
	return 0;
}

static void unlock(void)
{
	if (FLASH_CR & FLASH_CR_LOCK) {
		FLASH_KEYR = FLASH_KEY1;
		FLASH_KEYR = FLASH_KEY2;
	}
}

int stm32_flash_erase(unsigned int sector)
{
	int rc;

	if (sector >= STM32_FLASH_SECTORS)
		return -EINVAL;
	if (stm32_flash.emulated) {
		memset((void *)stm32_flash.base[sector], 0xFF, stm32_flash.size);
		return 0;
	}
	unlock();
	if ((rc = wait_idle(PROGRAM_SPINS)) < 0)
		return rc;
	FLASH_CR = FLASH_CR_PSIZE_X32 | FLASH_CR_SER | (SECTOR_FIRST + sector) << FLASH_CR_SNB_SHIFT;
	FLASH_CR |= FLASH_CR_STRT;
	rc = wait_idle(ERASE_SPINS);
	FLASH_CR = FLASH_CR_LOCK;
	return rc;
}

int stm32_flash_program(uintptr_t addr, const void *buf, size_t len)
{
	const uint8_t *b = buf;
	int rc = 0;

	if ((addr & 3u) || (len & 3u))
		return -EINVAL;
	if (stm32_flash.emulated) {
		volatile uint32_t *dst = (volatile uint32_t *)addr;

		for (size_t i = 0; i < len; i += 4) {
			uint32_t w;

			memcpy(&w, b + i, 4);
			dst[i / 4] &= w;
		}
	} else {
		unlock();
		for (size_t i = 0; i < len && rc == 0; i += 4) {
			uint32_t w;

			memcpy(&w, b + i, 4);
			if ((rc = wait_idle(PROGRAM_SPINS)) < 0)
				break;
			FLASH_CR = FLASH_CR_PSIZE_X32 | FLASH_CR_PG;
			*(volatile uint32_t *)(addr + i) = w;
			rc = wait_idle(PROGRAM_SPINS);
		}
		FLASH_CR = FLASH_CR_LOCK;
		if (rc < 0)
			return rc;
	}
	return memcmp((const void *)addr, buf, len) == 0 ? 0 : -EIO;
}
