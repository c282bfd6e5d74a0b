package org.tuntap.codec.vnet;

import io.netty.buffer.ByteBuf;
import org.tuntap.codec.checksum.InternetChecksum;

/**
 * Completes the checksum a virtio-net header with NEEDS_CSUM left partial: the field at
 * {@code csum_start + csum_offset} holds the pseudo-header's sum (folded, not inverted), and
 * the sender expects the receiver to add everything from {@code csum_start} to the end of the
 * packet and store the complement, as the kernel's {@code skb_checksum_help} does.
 */
public final class PartialChecksum {

    private PartialChecksum() {
    }

    /**
     * Completes the checksum of the packet of {@code length} bytes at {@code packetIndex}, in
     * place. The caller has checked that the field lies within the packet
     * ({@link VnetPacketLayout#parse} does).
     */
    public static void complete(ByteBuf packet, int packetIndex, int length, int checksumStart, int checksumOffset) {
        int start = packetIndex + checksumStart;
        long sum = InternetChecksum.add(0, packet, start, length - checksumStart); // the partial sum in the field included
        int checksum = InternetChecksum.finish(sum);
        // 0 means "no checksum" to UDP; the kernel stores 0xFFFF (the same value in ones' complement) for every protocol.
        packet.setShort(start + checksumOffset, checksum == 0 ? 0xFFFF : checksum);
    }
}
