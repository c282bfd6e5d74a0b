package org.tuntap.codec.vnet;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import org.tuntap.codec.FusedStack;
import org.tuntap.codec.buffer.Headroom;

/**
 * Puts the empty virtio-net header (ten zero bytes: no GSO, checksums complete) in front of an
 * ordinary packet, as every packet written to a channel with the transport's {@code VNET_HDR}
 * option needs, as cheaply as the buffer allows: in the spare room of a {@link Headroom}
 * composite, by copying a small packet (cheaper than a composite and a gathering write), or as
 * a new composite in front of a large one (the packet not copied).
 */
public final class EmptyVnetHeader {

    private EmptyVnetHeader() {
    }

    /**
     * Returns {@code packet} behind the empty header. Takes over the caller's reference to
     * {@code packet} (released, or kept by the result), also when it throws; the result holds one
     * reference.
     */
    public static ByteBuf prepend(ByteBufAllocator alloc, ByteBuf packet) {
        int length = packet.readableBytes();
        ByteBuf result = null;
        try {
            if (Headroom.available(packet) < VirtioNetHeader.LENGTH && length <= FusedStack.COPY_THRESHOLD) {
                result = alloc.ioBuffer(VirtioNetHeader.LENGTH + length);
                VirtioNetHeader.writeEmpty(result).writeBytes(packet, packet.readerIndex(), length);
            } else {
                result = Headroom.prepend(alloc, packet, VirtioNetHeader.LENGTH);
                Headroom.headerBuffer(result).setZero(result.readerIndex(), VirtioNetHeader.LENGTH);
            }
            ByteBuf done = result;
            result = null;
            return done;
        } finally {
            packet.release();
            if (result != null) {
                result.release();
            }
        }
    }
}
