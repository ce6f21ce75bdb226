/* Reset handler and vector table: copy .data, clear .bss, enable the FPU, run. */
#include <stdint.h>

#include "board.h"
#include "regs.h"

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;

void Reset_Handler(void);
void Default_Handler(void);
void HardFault_Handler(void);
void SysTick_Handler(void);
void USART1_IRQHandler(void);
void USART2_IRQHandler(void);
int main(void);

void Default_Handler(void)
{
	for (;;)
		__asm volatile("wfi");
}

void stm32_fault_report(const uint32_t *frame);
void stm32_fault_report(const uint32_t *frame)
{
	static const char hex[] = "0123456789abcdef";
	char msg[] = "\r\nFAULT pc=00000000 lr=00000000 cfsr=00000000, resetting\r\n";
	const uint32_t vals[3] = { frame[6], frame[5], REG32(0xE000ED28u) };

	for (int v = 0; v < 3; v++)
		for (int i = 0; i < 8; i++)
			msg[11 + v * 12 + (v == 2 ? 2 : 0) + i] = hex[(vals[v] >> (28 - 4 * i)) & 0xFu];
	stm32_console_puts(msg);
	/* Nothing safe is left to do but start again. */
	SCB_AIRCR = (0x5FAu << 16) | (1u << 2);
	for (;;)
		;
}

/* Hand the stacked exception frame (r0-r3, r12, lr, pc, xpsr) to the report. */
__attribute__((naked)) void HardFault_Handler(void)
{
	__asm volatile("tst lr, #4\n\t"
		       "ite eq\n\t"
		       "mrseq r0, msp\n\t"
		       "mrsne r0, psp\n\t"
		       "b stm32_fault_report");
}

void Reset_Handler(void)
{
	uint32_t *src = &_sidata, *dst = &_sdata;

	while (dst < &_edata)
		*dst++ = *src++;
	for (dst = &_sbss; dst < &_ebss; dst++)
		*dst = 0;
	/* The toolchain builds with the hard-float ABI: CP10 and CP11 full access. */
	SCB_CPACR |= 0xFu << 20;
	__asm volatile("dsb\n\tisb");
	main();
	for (;;)
		__asm volatile("wfi");
}

#define VECTORS (16 + 86)

__attribute__((section(".isr_vector"), used))
static void (*const vectors[VECTORS])(void) = {
	[0] = (void (*)(void))(uintptr_t)&_estack,
	[1] = Reset_Handler,
	[2] = Default_Handler,     /* NMI */
	[3] = HardFault_Handler,
	[4] = HardFault_Handler,   /* MemManage */
	[5] = HardFault_Handler,   /* BusFault */
	[6] = HardFault_Handler,   /* UsageFault */
	[11] = Default_Handler,    /* SVCall */
	[14] = Default_Handler,    /* PendSV */
	[15] = SysTick_Handler,
	[16 + IRQ_USART1] = USART1_IRQHandler,
	[16 + IRQ_USART2] = USART2_IRQHandler,
};
