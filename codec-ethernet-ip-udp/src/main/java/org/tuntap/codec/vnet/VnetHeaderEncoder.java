package org.tuntap.codec.vnet;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.EncoderException;
import org.tuntap.codec.buffer.Headroom;

/**
 * Outbound, on a {@code TunChannel} with the transport's {@code VNET_HDR} option on: puts the
 * empty {@link VirtioNetHeader} (no GSO, checksums complete) in front of every written
 * {@link ByteBuf}, so the layers above write ordinary IP packets. The header goes where
 * {@link EmptyVnetHeader#prepend} puts it: into the packet's {@link Headroom} when the encoders
 * above left one, else a small packet is copied behind it and a large one gets it in a buffer of
 * its own in front. Other messages pass through.
 *
 * <p>For writing super-packets, use a coalescing handler instead of this one (it writes the
 * header itself); the two do not go in one pipeline. Stateless: one instance may serve many
 * channels.
 */
@ChannelHandler.Sharable
public final class VnetHeaderEncoder extends ChannelOutboundHandlerAdapter {

    /** Shared by any number of channels. */
    public VnetHeaderEncoder() {
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (!(msg instanceof ByteBuf packet)) {
            ctx.write(msg, promise);
            return;
        }
        ByteBuf framed;
        try {
            framed = EmptyVnetHeader.prepend(ctx.alloc(), packet); // takes over the packet
        } catch (Throwable t) {
            promise.tryFailure(new EncoderException(t));
            return;
        }
        ctx.write(framed, promise);
    }
}
