//! The SVGA 2.x `MovieEntity` protobuf, written for prost from `svga.proto`
//! (`shared/spec/formats/svga/svga.proto`, package `com.opensource.svga`). SVGA 1.x
//! `movie.spec` JSON is converted into the same types.

#![expect(missing_docs, reason = "field docs are in svga.proto; names mirror it")]

use std::collections::HashMap;

#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct MovieParams {
    #[prost(float, tag = "1")]
    pub view_box_width: f32,
    #[prost(float, tag = "2")]
    pub view_box_height: f32,
    #[prost(int32, tag = "3")]
    pub fps: i32,
    #[prost(int32, tag = "4")]
    pub frames: i32,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct SpriteEntity {
    #[prost(string, tag = "1")]
    pub image_key: String,
    #[prost(message, repeated, tag = "2")]
    pub frames: Vec<FrameEntity>,
    #[prost(string, tag = "3")]
    pub matte_key: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct AudioEntity {
    #[prost(string, tag = "1")]
    pub audio_key: String,
    #[prost(int32, tag = "2")]
    pub start_frame: i32,
    #[prost(int32, tag = "3")]
    pub end_frame: i32,
    #[prost(int32, tag = "4")]
    pub start_time: i32,
    #[prost(int32, tag = "5")]
    pub total_time: i32,
}

#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct Layout {
    #[prost(float, tag = "1")]
    pub x: f32,
    #[prost(float, tag = "2")]
    pub y: f32,
    #[prost(float, tag = "3")]
    pub width: f32,
    #[prost(float, tag = "4")]
    pub height: f32,
}

#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct Transform {
    #[prost(float, tag = "1")]
    pub a: f32,
    #[prost(float, tag = "2")]
    pub b: f32,
    #[prost(float, tag = "3")]
    pub c: f32,
    #[prost(float, tag = "4")]
    pub d: f32,
    #[prost(float, tag = "5")]
    pub tx: f32,
    #[prost(float, tag = "6")]
    pub ty: f32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum ShapeType {
    Shape = 0,
    Rect = 1,
    Ellipse = 2,
    Keep = 3,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ShapeArgs {
    #[prost(string, tag = "1")]
    pub d: String,
}

#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct RectArgs {
    #[prost(float, tag = "1")]
    pub x: f32,
    #[prost(float, tag = "2")]
    pub y: f32,
    #[prost(float, tag = "3")]
    pub width: f32,
    #[prost(float, tag = "4")]
    pub height: f32,
    #[prost(float, tag = "5")]
    pub corner_radius: f32,
}

#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct EllipseArgs {
    #[prost(float, tag = "1")]
    pub x: f32,
    #[prost(float, tag = "2")]
    pub y: f32,
    #[prost(float, tag = "3")]
    pub radius_x: f32,
    #[prost(float, tag = "4")]
    pub radius_y: f32,
}

#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct RgbaColor {
    #[prost(float, tag = "1")]
    pub r: f32,
    #[prost(float, tag = "2")]
    pub g: f32,
    #[prost(float, tag = "3")]
    pub b: f32,
    #[prost(float, tag = "4")]
    pub a: f32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum LineCap {
    Butt = 0,
    Round = 1,
    Square = 2,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum LineJoin {
    Miter = 0,
    Round = 1,
    Bevel = 2,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ShapeStyle {
    #[prost(message, optional, tag = "1")]
    pub fill: Option<RgbaColor>,
    #[prost(message, optional, tag = "2")]
    pub stroke: Option<RgbaColor>,
    #[prost(float, tag = "3")]
    pub stroke_width: f32,
    #[prost(enumeration = "LineCap", tag = "4")]
    pub line_cap: i32,
    #[prost(enumeration = "LineJoin", tag = "5")]
    pub line_join: i32,
    #[prost(float, tag = "6")]
    pub miter_limit: f32,
    #[prost(float, tag = "7")]
    pub line_dash_i: f32,
    #[prost(float, tag = "8")]
    pub line_dash_ii: f32,
    #[prost(float, tag = "9")]
    pub line_dash_iii: f32,
}

#[derive(Clone, PartialEq, prost::Oneof)]
pub enum ShapeArgsKind {
    #[prost(message, tag = "2")]
    Shape(ShapeArgs),
    #[prost(message, tag = "3")]
    Rect(RectArgs),
    #[prost(message, tag = "4")]
    Ellipse(EllipseArgs),
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ShapeEntity {
    #[prost(enumeration = "ShapeType", tag = "1")]
    pub r#type: i32,
    #[prost(oneof = "ShapeArgsKind", tags = "2, 3, 4")]
    pub args: Option<ShapeArgsKind>,
    #[prost(message, optional, tag = "10")]
    pub styles: Option<ShapeStyle>,
    #[prost(message, optional, tag = "11")]
    pub transform: Option<Transform>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct FrameEntity {
    #[prost(float, tag = "1")]
    pub alpha: f32,
    #[prost(message, optional, tag = "2")]
    pub layout: Option<Layout>,
    #[prost(message, optional, tag = "3")]
    pub transform: Option<Transform>,
    #[prost(string, tag = "4")]
    pub clip_path: String,
    #[prost(message, repeated, tag = "5")]
    pub shapes: Vec<ShapeEntity>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct MovieEntity {
    #[prost(string, tag = "1")]
    pub version: String,
    #[prost(message, optional, tag = "2")]
    pub params: Option<MovieParams>,
    #[prost(map = "string, bytes", tag = "3")]
    pub images: HashMap<String, Vec<u8>>,
    #[prost(message, repeated, tag = "4")]
    pub sprites: Vec<SpriteEntity>,
    #[prost(message, repeated, tag = "5")]
    pub audios: Vec<AudioEntity>,
}
