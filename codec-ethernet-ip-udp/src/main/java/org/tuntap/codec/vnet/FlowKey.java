package org.tuntap.codec.vnet;

/**
 * What makes packets one flow for coalescing: family, transport protocol, addresses and ports.
 * IPv4 addresses sit in the low words, IPv6 addresses are two longs each (as
 * {@code Ipv6Header.sourceHigh/sourceLow} read them).
 */
record FlowKey(boolean ipv6, int protocol, long sourceHigh, long sourceLow, long destinationHigh,
               long destinationLow, int sourcePort, int destinationPort) {
}
