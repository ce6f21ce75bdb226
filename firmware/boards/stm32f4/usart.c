/*
 * USART1 (PA9 TX, PA10 RX: the ESP-AT module) and USART2 (PA2 TX, PA3 RX:
 * the console, the Nucleo's ST-LINK virtual COM port). Reception is
 * interrupt driven into a ring per port; transmission polls TXE with a
 * bound, so a dead UART cannot hang the firmware.
 */
#include "board.h"
#include "regs.h"

#define RING_ESP 1024u  /* a 320-byte message and its line, twice over */
#define RING_CONSOLE 128u
#define TXE_SPINS 100000u

struct port {
	uint32_t base;
	volatile uint8_t *ring;
	uint32_t size;
	volatile uint32_t head; /* written by the ISR */
	volatile uint32_t tail;
	volatile uint32_t overruns;
};

static uint8_t esp_ring[RING_ESP];
static uint8_t console_ring[RING_CONSOLE];
static struct port ports[2] = {
	{ USART1_BASE, esp_ring, RING_ESP, 0, 0, 0 },
	{ USART2_BASE, console_ring, RING_CONSOLE, 0, 0, 0 },
};

static void rx_irq(struct port *p)
{
	uint32_t sr = USART_SR(p->base);

	if (sr & (USART_SR_RXNE | USART_SR_ORE)) {
		uint8_t c = (uint8_t)USART_DR(p->base); /* also clears ORE */
		uint32_t next = (p->head + 1) % p->size;

		if (sr & USART_SR_ORE)
			p->overruns++;
		if (next == p->tail) {
			p->overruns++;
		} else {
			p->ring[p->head] = c;
			p->head = next;
		}
		stm32_time_signal_event();
	}
}

void USART1_IRQHandler(void);
void USART1_IRQHandler(void)
{
	rx_irq(&ports[STM32_UART_ESP]);
}

void USART2_IRQHandler(void);
void USART2_IRQHandler(void)
{
	rx_irq(&ports[STM32_UART_CONSOLE]);
}

static void pin_af7(unsigned int pin)
{
	unsigned int n = pin % 16;

	RCC_AHB1ENR |= 1u; /* port A */
	(void)RCC_AHB1ENR;
	GPIO_AFR(0, n) = (GPIO_AFR(0, n) & ~(0xFu << (4 * (n & 7)))) | 7u << (4 * (n & 7));
	GPIO_MODER(0) = (GPIO_MODER(0) & ~(3u << (2 * n))) | 2u << (2 * n);
}

void stm32_uart_init(enum stm32_uart u, uint32_t baud)
{
	struct port *p = &ports[u];
	uint32_t pclk;

	if (u == STM32_UART_ESP) {
		RCC_APB2ENR |= RCC_APB2ENR_USART1;
		pin_af7(9);
		pin_af7(10);
		pclk = stm32_clock.pclk2_hz;
	} else {
		RCC_APB1ENR |= RCC_APB1ENR_USART2;
		pin_af7(2);
		pin_af7(3);
		pclk = stm32_clock.pclk1_hz;
	}
	USART_CR1(p->base) = 0;
	USART_BRR(p->base) = (pclk + baud / 2) / baud; /* oversampling by 16 */
	USART_CR1(p->base) = USART_CR1_UE | USART_CR1_TE | USART_CR1_RE | USART_CR1_RXNEIE;
	nvic_enable(u == STM32_UART_ESP ? IRQ_USART1 : IRQ_USART2, 0x40);
}

void stm32_uart_write(enum stm32_uart u, const void *buf, size_t len)
{
	const uint8_t *b = buf;
	uint32_t base = ports[u].base;

	for (size_t i = 0; i < len; i++) {
		for (uint32_t spin = 0; spin < TXE_SPINS; spin++)
			if (USART_SR(base) & USART_SR_TXE)
				break;
		USART_DR(base) = b[i];
	}
}

size_t stm32_uart_read(enum stm32_uart u, void *buf, size_t cap)
{
	struct port *p = &ports[u];
	uint8_t *b = buf;
	size_t n = 0;

	while (n < cap && p->tail != p->head) {
		b[n++] = p->ring[p->tail];
		p->tail = (p->tail + 1) % p->size;
	}
	return n;
}

uint32_t stm32_uart_overruns(enum stm32_uart u)
{
	return ports[u].overruns;
}
