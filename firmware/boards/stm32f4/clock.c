/*
 * Clock set-up: the PLL from the HSE crystal (or the HSI when there is
 * none, or it does not start) to STM32_SYSCLK_HZ. Every wait is bounded;
 * a step that does not complete leaves the chip on the 16 MHz HSI, which
 * always works.
 *
 * Under QEMU (-M netduinoplus2) the RCC is not modelled: its registers read
 * 0, so not even HSIRDY, which real silicon sets out of reset, is ever seen.
 * That is how the board knows it is emulated; it then takes the machine's
 * fixed 168 MHz CPU clock and skips the set-up (docs/boards/stm32f4.md).
 */
#include "board.h"
#include "regs.h"

#ifndef STM32_HSE_HZ
#define STM32_HSE_HZ 8000000u      /* Nucleo: 8 MHz from the ST-LINK's MCO */
#endif
#ifndef STM32_SYSCLK_HZ
#define STM32_SYSCLK_HZ 84000000u  /* F401 maximum; the F411 runs 100 MHz */
#endif
#define HSI_HZ 16000000u
#define EMULATED_SYSCLK_HZ 168000000u /* QEMU netduinoplus2 */
#define READY_SPINS 200000u           /* about 50 ms at 16 MHz: HSE needs ~2 ms */

struct stm32_clock stm32_clock;

static bool wait_set(volatile uint32_t *reg, uint32_t mask, uint32_t want)
{
	for (uint32_t i = 0; i < READY_SPINS; i++)
		if ((*reg & mask) == want)
			return true;
	return false;
}

static void stay_on_hsi(const char *why)
{
	RCC_CFGR &= ~RCC_CFGR_SW_MASK;
	(void)wait_set(&RCC_CFGR, 3u << RCC_CFGR_SWS_SHIFT, 0);
	RCC_CR &= ~RCC_CR_PLLON;
	FLASH_ACR = FLASH_ACR_PRFTEN | FLASH_ACR_ICEN | FLASH_ACR_DCEN;
	stm32_clock.sysclk_hz = HSI_HZ;
	stm32_clock.pclk1_hz = HSI_HZ;
	stm32_clock.pclk2_hz = HSI_HZ;
	stm32_clock.source = why;
}

void stm32_clock_init(void)
{
	uint32_t in_hz = HSI_HZ, vco_hz, p, q, ws;
	bool hse = false;

	if (!wait_set(&RCC_CR, RCC_CR_HSIRDY, RCC_CR_HSIRDY)) {
		stm32_clock.emulated = true;
		stm32_clock.sysclk_hz = EMULATED_SYSCLK_HZ;
		stm32_clock.pclk1_hz = EMULATED_SYSCLK_HZ / 4;
		stm32_clock.pclk2_hz = EMULATED_SYSCLK_HZ / 2;
		stm32_clock.source = "emulator";
		return;
	}
	stm32_clock.source = "HSI";
	stm32_clock.sysclk_hz = stm32_clock.pclk1_hz = stm32_clock.pclk2_hz = HSI_HZ;
	if (STM32_HSE_HZ) {
		RCC_CR |= RCC_CR_HSEON;
		hse = wait_set(&RCC_CR, RCC_CR_HSERDY, RCC_CR_HSERDY);
		if (hse)
			in_hz = STM32_HSE_HZ;
		else
			RCC_CR &= ~RCC_CR_HSEON; /* no crystal fitted: PLL from HSI */
	}
	/* VCO input 1 MHz; VCO 192..432 MHz; P of 4 or 2; Q for 48 MHz. */
	p = STM32_SYSCLK_HZ * 4u <= 432000000u ? 4u : 2u;
	vco_hz = STM32_SYSCLK_HZ * p;
	q = (vco_hz + 47999999u) / 48000000u;
	RCC_CR &= ~RCC_CR_PLLON;
	if (!wait_set(&RCC_CR, RCC_CR_PLLRDY, 0))
		return;
	RCC_PLLCFGR = (in_hz / 1000000u) | (vco_hz / 1000000u) << 6 | ((p / 2u) - 1u) << 16 |
		      (hse ? RCC_PLLCFGR_SRC_HSE : 0) | q << 24;
	RCC_CR |= RCC_CR_PLLON;
	if (!wait_set(&RCC_CR, RCC_CR_PLLRDY, RCC_CR_PLLRDY)) {
		stay_on_hsi("HSI (PLL did not lock)");
		return;
	}
	/* 3.3 V: one wait state per 30 MHz; set before the clock goes up. */
	ws = (STM32_SYSCLK_HZ - 1u) / 30000000u;
	FLASH_ACR = ws | FLASH_ACR_PRFTEN | FLASH_ACR_ICEN | FLASH_ACR_DCEN;
	if ((FLASH_ACR & 0xFu) != ws) {
		stay_on_hsi("HSI (flash latency refused)");
		return;
	}
	/* APB1 at most 42/50 MHz: /2. APB2 /1. */
	RCC_CFGR = (RCC_CFGR & ~(RCC_CFGR_SW_MASK | (7u << 10) | (7u << 13) | (0xFu << 4))) |
		   RCC_CFGR_PPRE1_DIV2 | RCC_CFGR_SW_PLL;
	if (!wait_set(&RCC_CFGR, 3u << RCC_CFGR_SWS_SHIFT, RCC_CFGR_SW_PLL << RCC_CFGR_SWS_SHIFT)) {
		stay_on_hsi("HSI (switch to PLL failed)");
		return;
	}
	stm32_clock.sysclk_hz = STM32_SYSCLK_HZ;
	stm32_clock.pclk1_hz = STM32_SYSCLK_HZ / 2u;
	stm32_clock.pclk2_hz = STM32_SYSCLK_HZ;
	stm32_clock.source = hse ? "PLL/HSE" : "PLL/HSI";
}
