/*
 * STM32F4 registers this board touches, from RM0368 (F401) / RM0383 (F411) /
 * RM0090 (F405), which agree on every address below, and the Cortex-M4
 * generic user guide. No vendor headers: one struct-free table of addresses.
 */
#ifndef STM32F4_REGS_H
#define STM32F4_REGS_H

#include <stdint.h>

#define REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

/* RCC */
#define RCC_BASE 0x40023800u
#define RCC_CR REG32(RCC_BASE + 0x00)
#define RCC_PLLCFGR REG32(RCC_BASE + 0x04)
#define RCC_CFGR REG32(RCC_BASE + 0x08)
#define RCC_AHB1ENR REG32(RCC_BASE + 0x30)
#define RCC_APB1ENR REG32(RCC_BASE + 0x40)
#define RCC_APB2ENR REG32(RCC_BASE + 0x44)
#define RCC_CR_HSION (1u << 0)
#define RCC_CR_HSIRDY (1u << 1)
#define RCC_CR_HSEON (1u << 16)
#define RCC_CR_HSERDY (1u << 17)
#define RCC_CR_PLLON (1u << 24)
#define RCC_CR_PLLRDY (1u << 25)
#define RCC_PLLCFGR_SRC_HSE (1u << 22)
#define RCC_CFGR_SW_MASK 3u
#define RCC_CFGR_SW_PLL 2u
#define RCC_CFGR_SWS_SHIFT 2
#define RCC_CFGR_PPRE1_DIV2 (4u << 10)
#define RCC_APB1ENR_TIM2 (1u << 0)
#define RCC_APB1ENR_USART2 (1u << 17)
#define RCC_APB2ENR_USART1 (1u << 4)

/* Embedded flash interface */
#define FLASH_IF_BASE 0x40023C00u
#define FLASH_ACR REG32(FLASH_IF_BASE + 0x00)
#define FLASH_KEYR REG32(FLASH_IF_BASE + 0x04)
#define FLASH_SR REG32(FLASH_IF_BASE + 0x0C)
#define FLASH_CR REG32(FLASH_IF_BASE + 0x10)
#define FLASH_ACR_PRFTEN (1u << 8)
#define FLASH_ACR_ICEN (1u << 9)
#define FLASH_ACR_DCEN (1u << 10)
#define FLASH_SR_BSY (1u << 16)
#define FLASH_SR_ERRORS 0xF2u /* PGSERR PGPERR PGAERR WRPERR OPERR */
#define FLASH_CR_PG (1u << 0)
#define FLASH_CR_SER (1u << 1)
#define FLASH_CR_SNB_SHIFT 3
#define FLASH_CR_PSIZE_X32 (2u << 8)
#define FLASH_CR_STRT (1u << 16)
#define FLASH_CR_LOCK (1u << 31)
#define FLASH_KEY1 0x45670123u
#define FLASH_KEY2 0xCDEF89ABu

/* GPIO ports A..E, 0x400 apart */
#define GPIO_BASE(port) (0x40020000u + 0x400u * (port))
#define GPIO_MODER(p) REG32(GPIO_BASE(p) + 0x00)
#define GPIO_OTYPER(p) REG32(GPIO_BASE(p) + 0x04)
#define GPIO_OSPEEDR(p) REG32(GPIO_BASE(p) + 0x08)
#define GPIO_PUPDR(p) REG32(GPIO_BASE(p) + 0x0C)
#define GPIO_IDR(p) REG32(GPIO_BASE(p) + 0x10)
#define GPIO_BSRR(p) REG32(GPIO_BASE(p) + 0x18)
#define GPIO_AFR(p, n) REG32(GPIO_BASE(p) + 0x20 + 4u * ((n) >> 3))

/* USART1 (APB2) and USART2 (APB1) */
#define USART1_BASE 0x40011000u
#define USART2_BASE 0x40004400u
#define USART_SR(b) REG32((b) + 0x00)
#define USART_DR(b) REG32((b) + 0x04)
#define USART_BRR(b) REG32((b) + 0x08)
#define USART_CR1(b) REG32((b) + 0x0C)
#define USART_SR_ORE (1u << 3)
#define USART_SR_RXNE (1u << 5)
#define USART_SR_TXE (1u << 7)
#define USART_CR1_RE (1u << 2)
#define USART_CR1_TE (1u << 3)
#define USART_CR1_RXNEIE (1u << 5)
#define USART_CR1_UE (1u << 13)

/* TIM2, 32 bits */
#define TIM2_BASE 0x40000000u
#define TIM2_CR1 REG32(TIM2_BASE + 0x00)
#define TIM2_EGR REG32(TIM2_BASE + 0x14)
#define TIM2_CNT REG32(TIM2_BASE + 0x24)
#define TIM2_PSC REG32(TIM2_BASE + 0x28)
#define TIM2_ARR REG32(TIM2_BASE + 0x2C)

/* Cortex-M4 core */
#define SYST_CSR REG32(0xE000E010u)
#define SYST_RVR REG32(0xE000E014u)
#define SYST_CVR REG32(0xE000E018u)
#define SYST_CSR_ENABLE (1u << 0)
#define SYST_CSR_TICKINT (1u << 1)
#define SYST_CSR_CLKSOURCE (1u << 2)
#define SYST_CSR_COUNTFLAG (1u << 16)
#define NVIC_ISER(n) REG32(0xE000E100u + 4u * (n))
#define NVIC_IPR8(irq) (*(volatile uint8_t *)(uintptr_t)(0xE000E400u + (irq)))
#define SCB_VTOR REG32(0xE000ED08u)
#define SCB_AIRCR REG32(0xE000ED0Cu)
#define SCB_CPACR REG32(0xE000ED88u)

#define IRQ_TIM2 28
#define IRQ_USART1 37
#define IRQ_USART2 38

/* 96-bit unique device id */
#define UID_BASE 0x1FFF7A10u

static inline void nvic_enable(unsigned int irq, uint8_t prio)
{
	NVIC_IPR8(irq) = prio;
	NVIC_ISER(irq >> 5) = 1u << (irq & 31u);
}

#endif /* STM32F4_REGS_H */
