/*
 * Time: TIM2 counts microseconds (32 bits, extended to 64 in software),
 * SysTick interrupts every millisecond so the extension never misses a
 * wrap and WFI always wakes up to look at the deadline.
 *
 * TIM2's prescaler is measured, not computed: TIM2 runs undivided for one
 * SysTick period (1 ms of CPU clock), and the count gives its input clock.
 * That holds for any APB1 divider, and under QEMU, whose timer model runs
 * at its own fixed rate.
 */
#include <errno.h>

#include "board.h"
#include "hal_gpio.h"
#include "hal_time.h"
#include "regs.h"

static volatile uint32_t ticks_hi;
static volatile uint32_t last_cnt;
static volatile uint32_t event;

static uint64_t now_locked(void)
{
	uint32_t cnt = TIM2_CNT;

	if (cnt < last_cnt)
		ticks_hi++;
	last_cnt = cnt;
	return (uint64_t)ticks_hi << 32 | cnt;
}

void SysTick_Handler(void);
void SysTick_Handler(void)
{
	(void)now_locked(); /* exceptions do not nest with PRIMASK set */
}

uint64_t hal_time_now_us(void)
{
	uint32_t s = hal_irq_save();
	uint64_t t = now_locked();

	hal_irq_restore(s);
	return t;
}

void hal_time_delay_us(uint32_t us)
{
	uint64_t end = hal_time_now_us() + us;

	while (hal_time_now_us() < end)
		;
}

int hal_time_wall_ms(int64_t *epoch_ms)
{
	(void)epoch_ms;
	return -EAGAIN; /* no RTC battery, no SNTP: readings carry no timestamp */
}

void stm32_time_signal_event(void)
{
	event = 1;
}

int hal_time_wait_until(uint64_t deadline_us)
{
	for (;;) {
		uint64_t now = hal_time_now_us();

		if (event) {
			event = 0;
			return 1;
		}
		if (now >= deadline_us)
			return 0;
		if (stm32_esp_deadline() <= now)
			return 1;
		/* Interrupts masked between the check and WFI: a byte arriving
		 * in between still wakes the core, it is pending. */
		__asm volatile("cpsid i" ::: "memory");
		if (!event)
			__asm volatile("wfi");
		__asm volatile("cpsie i" ::: "memory");
	}
}

static void systick_start(void)
{
	SYST_RVR = stm32_clock.sysclk_hz / 1000u - 1u;
	SYST_CVR = 0;
	SYST_CSR = SYST_CSR_ENABLE | SYST_CSR_CLKSOURCE;
}

/* Wait for SysTick to wrap, at most a few periods' worth of spins. */
static void systick_wrap(void)
{
	for (uint32_t i = 0; i < 4000000u; i++)
		if (SYST_CSR & SYST_CSR_COUNTFLAG)
			return;
}

void stm32_time_init(void)
{
	uint32_t a, b, hz;

	RCC_APB1ENR |= RCC_APB1ENR_TIM2;
	(void)RCC_APB1ENR;
	TIM2_CR1 = 0;
	TIM2_PSC = 0;
	TIM2_ARR = 0xFFFFFFFFu;
	TIM2_EGR = 1; /* load the prescaler */
	TIM2_CR1 = 1;
	systick_start();
	systick_wrap();
	a = TIM2_CNT;
	systick_wrap();
	b = TIM2_CNT;
	hz = (b - a) * 1000u;
	if (hz < 1000000u)
		hz = stm32_clock.pclk1_hz * 2u; /* no count: trust the clock tree */
	TIM2_CR1 = 0;
	TIM2_PSC = (hz + 500000u) / 1000000u - 1u;
	TIM2_EGR = 1;
	TIM2_CNT = 0;
	TIM2_CR1 = 1;
	last_cnt = 0;
	ticks_hi = 0;
	SYST_CSR = SYST_CSR_ENABLE | SYST_CSR_CLKSOURCE | SYST_CSR_TICKINT;
}
