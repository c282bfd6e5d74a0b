package org.tuntap.codec;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelPromise;

/**
 * A handler right below a {@link FusedStack} (only inbound handlers between them) that merges
 * the packets the stack writes into super-packets as they come: the stack builds a packet's
 * headers only when it starts a super-packet, and for each packet that joins one it appends the
 * payload and nothing else. No packet buffer of its own, no outbound-buffer entry, and nothing
 * re-read of what the stack just built. The vnet module's {@code CoalescingHandler} is one (USO
 * on a TUN or TAP device with the transport's {@code VNET_HDR} option).
 *
 * <p>The stack asks only when its bottom layer takes IP packets (a TUN device, no PI) or
 * Ethernet frames (TAP; the stack's link header is then in front of the IP header), and calls
 * these from the channel's event loop, in this order per packet: {@link #join}; when that
 * declines, {@link #startBuffer}; when that gives a buffer, the stack builds the whole packet in
 * it and hands it over with {@link #open}. Flushing the merger writes what it holds.
 */
public interface FusedWriteMerger {

    /**
     * Appends the payload of the packet {@code fields} describe (outbound fields filled, the
     * transport ports among them) to the open super-packet, when it may join it.
     *
     * @param payload its readable bytes are copied; the caller keeps its reference
     * @return true when it joined (the promise taken over); false, nothing done, when not
     */
    boolean join(FusedFields fields, ByteBuf payload, ChannelPromise promise);

    /**
     * A buffer to build the first packet of a new super-packet in, its writer index where the
     * packet's first byte goes and room for {@code headerLength + payloadLength} bytes from
     * there; null when this merger does not take the packet (the stack then writes it as usual).
     * The caller owns the buffer until {@link #open}.
     *
     * @param linkHeaderLength the bytes of the packet in front of its IP header: 0 for an IP
     *                         packet, the Ethernet header's for a frame
     */
    ByteBuf startBuffer(int linkHeaderLength, int headerLength, int payloadLength);

    /**
     * Takes over {@code packet} (from {@link #startBuffer}, the packet built from its writer index
     * as it was to its writer index now) and the promise, as the start of a new super-packet;
     * the one open before is finished first, so packets leave in the order written.
     */
    void open(FusedFields fields, ByteBuf packet, ChannelPromise promise);
}
