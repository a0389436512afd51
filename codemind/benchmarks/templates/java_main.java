${public}class Main {
    public static void main(String[] args) throws Exception {
${instance}${setup}        System.out.println(${value});
    }
}
